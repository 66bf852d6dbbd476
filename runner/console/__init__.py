"""runner ui: the partition console, a local web application over the ledger and the warehouse."""

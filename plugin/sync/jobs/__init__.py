"""One runner per job. Each takes a JobContext (its run, store, configuration, BigCommerce client,
IntelliTrack gateway and lock), streams the store's records a page at a time, maps them, binds them to
links, and records one outcome row per item."""

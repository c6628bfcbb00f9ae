"""Scale-out: the heavy work of a very large project (embedding, the whole-pool neighbour graph) run on a
distributed engine (Ray Data) or locally, written as files the laptop's app opens without recomputing.

The contract between the cluster and the laptop is a folder, not a service: a *vectors table*
(:mod:`.table`: Parquet parts + a manifest naming the model card) and a *graph table* (:mod:`.graph`).
:mod:`.embed` makes the first with exactly the app's preprocessing and model (it calls the app's own
``embed_dataset``); :mod:`.load` puts both into a project's caches, so the app finds everything computed.
Ray and pyarrow are imported lazily, inside the functions that need them.
"""

"""The benchmark of issue 6: ``make bench`` (``python -m bench``) measures the pipeline against its
physical floor and prints one table; figures are printed, never asserted.

``rrweb`` and ``corpus`` make realistic recordings (seeded, so every run measures the same bytes);
``stack`` starts and always stops the processes a part needs; one module per part (``core``,
``recordings_consumer``, ``ingest_load``, ``e2e_latency``, ``occurrences_consumer``); ``settings``
and ``urls`` add a no-op view to the real URLconf for the ingest part's ceiling.
"""

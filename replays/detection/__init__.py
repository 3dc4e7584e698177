"""Detection of frustrated clicks in recording segments: pure functions, no Django, no Kafka.

The steps, in the order ``detect.py`` runs them: ``message`` (decode) → ``recording`` (split,
decompress) → ``breadcrumbs`` (find the click breadcrumbs) → ``classify`` → ``fingerprint`` →
``sampling`` → ``occurrence`` (build the issue occurrence), with ``replay_event`` and
``user_agent`` for the segment's metadata and ``ignore`` for the project's ignore selectors.
"""

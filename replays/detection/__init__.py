"""Detection of frustrated clicks in recording segments: pure functions, no Django, no Kafka.

The steps, in the order ``detect.py`` runs them: ``message`` (decode) → ``recording`` (split,
decompress) → ``breadcrumbs`` (find the click breadcrumbs) → ``classify`` → ``fingerprint`` →
``sampling`` → ``occurrence`` (build the issue occurrence), with ``replay_event``, ``tags`` and
``user_agent`` for the segment's metadata, ``ignore`` for the project's ignore selectors, and
``timestamps`` for the click times the issues stage takes.
"""

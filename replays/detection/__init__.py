"""Detection of frustrated clicks and hydration errors in recording segments: pure functions, no
Django, no Kafka (the issue types' ids and titles come from ``issues.grouptypes``, pure as well).

The steps, in the order ``detect.py`` runs them: ``message`` (decode) → ``recording`` (split,
decompress) → ``breadcrumbs`` (find the click and hydration-error breadcrumbs) → ``classify`` →
``fingerprint`` → ``sampling`` → ``occurrence`` (build the issue occurrence), with
``replay_event``, ``tags`` and ``user_agent`` for the segment's metadata, ``ignore`` for the
project's ignore selectors, and ``timestamps`` for the click times the issues stage takes.
"""

"""The web UI's pages: thin views over ``issues.queries`` (reads) and ``issues.services``
(writes), one module per area: issues, replays, and the clicked elements (selectors page)."""

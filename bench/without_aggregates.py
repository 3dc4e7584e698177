"""``python -m bench.without_aggregates <command> [args]``: ``manage.py`` with the issues consumer's
aggregate step (``issues.services._aggregates_count``: per issue per day, breakdowns, filter values,
element counts, status counts) replaced by nothing. Part e runs ``consume_occurrences`` so beside
the real one, in the same run, to say what keeping the aggregates costs. Never used by the product.
"""

import os
import sys

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.base")
    django.setup()
    from django.core.management import execute_from_command_line

    import issues.services

    issues.services._aggregates_count = lambda *args, **kwargs: None
    execute_from_command_line(["manage.py", *sys.argv[1:]])


if __name__ == "__main__":
    main()

workers = 2  # the tutorial ran gunicorn defaults (sync workers); two, as our service

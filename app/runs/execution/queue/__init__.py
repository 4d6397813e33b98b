"""Runs on worker machines through a job queue over Redis (Dramatiq + Redis Streams).

Optional: needs the `queue` extra (`pip install -e '.[queue]'`). Nothing here is
imported unless `PLAYGROUND_EXECUTOR=queue` or `backprop worker` asks for it.
"""

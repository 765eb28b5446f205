"""What the parent harness and the worker agree on, and nothing else: the run configuration
(`config`), and how a worker process is started, watched and stopped (`processes`).

Both sides import it; it imports neither.
"""

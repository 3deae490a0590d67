"""Publishing whole runs: a warehouse version per run, gates, and one atomic step to current.

`workdir` lays the versions out and swaps the current one; `registry` records every run and
its status; `gates` decides whether a built version may be published.
"""

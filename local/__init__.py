"""`make local`: the whole order system on this machine (see local/system.py)."""

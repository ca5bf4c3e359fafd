"""The desk's worklist: the sweep that opens and closes items, the desk's actions, and the list it reads."""

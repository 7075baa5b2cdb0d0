"""`stockcount-handheld app`: the full-screen counting app (Textual) for wedge scanners.

counting_app.py   the screen: open count and bin, last scan, totals, sync state; keys
widgets.py        the scanner's line (keystrokes to Enter, GS kept) and the feedback
screens.py        dialogs: key a quantity, pick a count, recount orders
background.py     one sync on a store connection of its own, for the worker thread
"""

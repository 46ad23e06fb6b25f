"""PackDesk core: the order domain and the client engine, with no Qt import.

Everything here runs (and is tested) without a screen; the hub and the desktop client both use it.
"""

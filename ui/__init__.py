"""PackDesk desktop client: PySide6 widgets and models on top of core/."""

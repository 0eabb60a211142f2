"""The full-screen Textual app. Only this package imports Textual."""

"""The Kivy touchscreen: renders session state, sends the resident's intents; holds no rules.

Import `ui.kivy_env` before anything from Kivy (it sets Kivy's environment once).
"""

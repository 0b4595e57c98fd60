"""The web chat (`qa serve`, `python app.py`): a Gradio page over qa.Engine.

Importing this package loads nothing; gradio is imported by qa.webapp.app only.
"""

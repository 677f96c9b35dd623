"""Spoken announcements for the lobby display: number reading, phrase, offline clips.

Pure Python plus the ``espeak-ng`` program; no Flask here, so the server, the CLI and
the tests can all use it alone.
"""

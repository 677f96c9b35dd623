"""Yearly official schedules of days off (vn_YYYY.toml), read by server.domain.calendar.

A package only so that setuptools ships the TOML files with the wheel.
"""

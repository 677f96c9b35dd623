"""Notifications to citizens about their ticket (issue 14, item 3; docs/notifications.md).

- ``texts``: what each message says, Vietnamese first then English (pure).
- ``keys``: the VAPID key pair (generated once, kept) and the sealing of phone numbers.
- ``store``: consent (subscribe, withdraw) and the triggers that enqueue messages.
- ``channels``: Web Push (VAPID, aes128gcm) and the HTTP SMS/Zalo gateway provider.
- ``delivery``: the worker: claim due messages atomically, send, retry with back-off.
- ``gateway_sim``: a local SMS gateway that can fail, stall and answer 5xx (tests, dev).
"""

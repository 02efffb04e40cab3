"""The one signal accounts send: apps above it clean up after a person who leaves.

`account_deleting` is sent with `user=` inside the deletion's transaction, before the user
row is deleted, so a receiver can still read the user's rows and its changes commit or roll
back together with the deletion. Apps connect their receivers in AppConfig.ready()."""

from django.dispatch import Signal

account_deleting = Signal()

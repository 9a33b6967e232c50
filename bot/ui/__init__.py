"""Discord presentation: embeds, views, buttons and messages, one module per feature, plus the
one error handler. Built from what the services return; never a service call, SQL or Spotify."""

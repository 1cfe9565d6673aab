"""Azure Resource Manager: the broker's listeners, authentications and authorizations as ARM
resources."""

"""What happens after deployment: the prediction log (writer and table), input drift, and the report over both."""

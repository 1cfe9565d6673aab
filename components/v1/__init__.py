"""The GA API, mqttbroker.iotoperations.azure.com/v1: models, rules and authentication."""

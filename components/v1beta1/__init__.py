"""The preview API, mq.iotoperations.azure.com/v1beta1: its models and its sharing rules."""

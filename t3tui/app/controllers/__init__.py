"""Small objects beside the App, one concern each, so that the App only wires them together."""

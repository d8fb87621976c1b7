"""Run the whole system on one machine: the demo launcher and the test fixtures.

Starts the MongoDB stand-in (SecantusDB, a separate GPL process that is never
imported) when no MONGODB_URL is given, checks RabbitMQ and starts it where
it can, and runs the four services as separate processes.
"""

from servicekit.runner import serve

from notifications_service.app import definition

serve(definition)

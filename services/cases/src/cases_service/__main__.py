from servicekit.runner import serve

from cases_service.app import definition

serve(definition)

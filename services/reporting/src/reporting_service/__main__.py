from servicekit.runner import serve

from reporting_service.app import definition

serve(definition)

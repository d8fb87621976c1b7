from cases_service.app import definition
from servicekit.runner import serve

serve(definition)

from servicekit.runner import serve
from signals_service.app import definition

serve(definition)

import json
import logging

from servicekit import logs


def test_log_lines_are_json_with_correlation_id_and_extras():
    formatter = logs.JsonFormatter("cases")
    token = logs.correlation_id.set("corr-1")
    try:
        record = logging.makeLogRecord(
            {
                "name": "x",
                "levelno": 20,
                "levelname": "INFO",
                "msg": "case opened",
                "case_id": "c-1",
            }
        )
        line = json.loads(formatter.format(record))
    finally:
        logs.correlation_id.reset(token)
    assert line["message"] == "case opened"
    assert line["service"] == "cases"
    assert line["correlation_id"] == "corr-1"
    assert line["case_id"] == "c-1"
    assert line["level"] == "info"

"""BPMN in and out: safe XML, one parse of a deployed process, the designer rules and check, the script
language, timers on the working calendar, and the SVG diagram."""

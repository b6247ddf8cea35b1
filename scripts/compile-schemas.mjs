// Build step placeholder: precompiled ajv validators are generated here (filled in by the runner work).

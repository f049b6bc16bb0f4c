//! `svc`: the operator's control and status tool (placeholder until issue 4).

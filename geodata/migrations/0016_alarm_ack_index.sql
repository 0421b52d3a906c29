-- The wall polls its alarm strip every few seconds and each poll asks, for every open priority-1 case,
-- whether an `alarm_ack` row exists; audit_log also holds every media view, so without this index that
-- question reads the whole log. Partial: only acknowledgements are looked up by target.
CREATE INDEX audit_log_alarm_ack_idx ON audit_log (target) WHERE action = 'alarm_ack';

-- A camera situation's later phases find its incident through the report of its start, also when
-- that start was merged into another incident (same matter, same place, within the window).
CREATE INDEX incident_report_situation_idx ON incident_report ((attributes -> 'situation' ->> 'id'))
    WHERE attributes ? 'situation';

-- Stable, documented views for BI tools (Power BI, Tableau, Metabase) and the read-only role.
-- They are the contract analysts build on: columns are only ever added here, never renamed or
-- removed (a change of meaning gets a new view). They read transactions_flat, not the
-- daily_summary materialized view, so they are current while a run is still loading.
-- Calendar fields are UTC, like everything the pipeline writes, so no view depends on the
-- session's TimeZone. The schema is the migration's search_path: no schema name is written here.

CREATE VIEW analytics_transactions AS
SELECT transaction_id, event_ts, event_date, event_hour, event_dayofweek, user_id, amount, amount_bucket,
       merchant, category, city, status, payment_method, currency,
       (status = 'APPROVED') AS is_approved
FROM transactions_flat;

COMMENT ON VIEW analytics_transactions IS 'One row per card transaction loaded by the pipeline (the fact table for drill-down). Business columns only; lineage stays in transactions_flat.';
COMMENT ON COLUMN analytics_transactions.transaction_id IS 'Unique id of the transaction (UUID, lowercase).';
COMMENT ON COLUMN analytics_transactions.event_ts IS 'When the transaction happened (timestamp with time zone).';
COMMENT ON COLUMN analytics_transactions.event_date IS 'UTC calendar date of event_ts.';
COMMENT ON COLUMN analytics_transactions.event_hour IS 'UTC hour of day of event_ts, 0-23.';
COMMENT ON COLUMN analytics_transactions.event_dayofweek IS 'UTC weekday name of event_ts (Monday..Sunday).';
COMMENT ON COLUMN analytics_transactions.user_id IS 'Customer id.';
COMMENT ON COLUMN analytics_transactions.amount IS 'Amount in the transaction currency (the dashboard labels it EUR), 2 decimals, always > 0.';
COMMENT ON COLUMN analytics_transactions.amount_bucket IS 'Amount band: <20, 20-100, 100-250, 250-500, >=500.';
COMMENT ON COLUMN analytics_transactions.merchant IS 'Merchant name.';
COMMENT ON COLUMN analytics_transactions.category IS 'Merchant category (grocery, restaurants, transport, ...).';
COMMENT ON COLUMN analytics_transactions.city IS 'City of the transaction.';
COMMENT ON COLUMN analytics_transactions.status IS 'APPROVED, DECLINED, PENDING or REFUNDED.';
COMMENT ON COLUMN analytics_transactions.payment_method IS 'card, contactless, mobile_wallet or online.';
COMMENT ON COLUMN analytics_transactions.currency IS 'ISO 4217 code as sent by the producer (EUR, USD, GBP, CHF); amounts are not converted.';
COMMENT ON COLUMN analytics_transactions.is_approved IS 'True when status = APPROVED.';

CREATE VIEW analytics_daily_summary AS
SELECT event_date,
       city,
       category,
       count(*)::bigint                                                    AS transaction_count,
       count(*) FILTER (WHERE status = 'APPROVED')::bigint                 AS approved_count,
       count(*) FILTER (WHERE status = 'DECLINED')::bigint                 AS declined_count,
       sum(amount)::numeric(14,2)                                          AS total_amount,
       coalesce(sum(amount) FILTER (WHERE status = 'APPROVED'), 0)::numeric(14,2) AS approved_amount,
       round(avg(amount), 2)::numeric(12,2)                                AS average_amount,
       round(count(*) FILTER (WHERE status = 'APPROVED')::numeric / count(*), 4)::numeric(5,4) AS approval_rate
FROM transactions_flat
GROUP BY event_date, city, category;

COMMENT ON VIEW analytics_daily_summary IS 'Transactions per UTC day, city and category. Sum the counts and amounts to roll up; recompute rates from the counts (do not average approval_rate).';
COMMENT ON COLUMN analytics_daily_summary.event_date IS 'UTC calendar date.';
COMMENT ON COLUMN analytics_daily_summary.city IS 'City of the transactions.';
COMMENT ON COLUMN analytics_daily_summary.category IS 'Merchant category.';
COMMENT ON COLUMN analytics_daily_summary.transaction_count IS 'Number of transactions.';
COMMENT ON COLUMN analytics_daily_summary.approved_count IS 'Transactions with status APPROVED.';
COMMENT ON COLUMN analytics_daily_summary.declined_count IS 'Transactions with status DECLINED.';
COMMENT ON COLUMN analytics_daily_summary.total_amount IS 'Sum of amount over all statuses.';
COMMENT ON COLUMN analytics_daily_summary.approved_amount IS 'Sum of amount of APPROVED transactions (0 when none).';
COMMENT ON COLUMN analytics_daily_summary.average_amount IS 'Mean amount, rounded to 2 decimals.';
COMMENT ON COLUMN analytics_daily_summary.approval_rate IS 'approved_count / transaction_count, 0-1, 4 decimals.';

CREATE VIEW analytics_merchant_stats AS
SELECT merchant,
       category,
       count(*)::bigint                                                    AS transaction_count,
       count(DISTINCT user_id)::bigint                                     AS customer_count,
       sum(amount)::numeric(14,2)                                          AS total_amount,
       round(avg(amount), 2)::numeric(12,2)                                AS average_amount,
       max(amount)                                                         AS max_amount,
       round(count(*) FILTER (WHERE status = 'APPROVED')::numeric / count(*), 4)::numeric(5,4) AS approval_rate,
       min(event_ts)                                                       AS first_seen,
       max(event_ts)                                                       AS last_seen
FROM transactions_flat
GROUP BY merchant, category;

COMMENT ON VIEW analytics_merchant_stats IS 'One row per merchant and category over all loaded transactions.';
COMMENT ON COLUMN analytics_merchant_stats.merchant IS 'Merchant name.';
COMMENT ON COLUMN analytics_merchant_stats.category IS 'Merchant category.';
COMMENT ON COLUMN analytics_merchant_stats.transaction_count IS 'Number of transactions.';
COMMENT ON COLUMN analytics_merchant_stats.customer_count IS 'Distinct user_id values.';
COMMENT ON COLUMN analytics_merchant_stats.total_amount IS 'Sum of amount over all statuses.';
COMMENT ON COLUMN analytics_merchant_stats.average_amount IS 'Mean amount, rounded to 2 decimals.';
COMMENT ON COLUMN analytics_merchant_stats.max_amount IS 'Largest single amount.';
COMMENT ON COLUMN analytics_merchant_stats.approval_rate IS 'Share of APPROVED transactions, 0-1, 4 decimals.';
COMMENT ON COLUMN analytics_merchant_stats.first_seen IS 'Earliest event_ts.';
COMMENT ON COLUMN analytics_merchant_stats.last_seen IS 'Latest event_ts.';

CREATE VIEW analytics_city_stats AS
SELECT city,
       count(*)::bigint                                                    AS transaction_count,
       count(DISTINCT user_id)::bigint                                     AS customer_count,
       sum(amount)::numeric(14,2)                                          AS total_amount,
       round(avg(amount), 2)::numeric(12,2)                                AS average_amount,
       round(count(*) FILTER (WHERE status = 'APPROVED')::numeric / count(*), 4)::numeric(5,4) AS approval_rate,
       mode() WITHIN GROUP (ORDER BY category)                             AS top_category
FROM transactions_flat
GROUP BY city;

COMMENT ON VIEW analytics_city_stats IS 'One row per city over all loaded transactions.';
COMMENT ON COLUMN analytics_city_stats.city IS 'City of the transactions.';
COMMENT ON COLUMN analytics_city_stats.transaction_count IS 'Number of transactions.';
COMMENT ON COLUMN analytics_city_stats.customer_count IS 'Distinct user_id values.';
COMMENT ON COLUMN analytics_city_stats.total_amount IS 'Sum of amount over all statuses.';
COMMENT ON COLUMN analytics_city_stats.average_amount IS 'Mean amount, rounded to 2 decimals.';
COMMENT ON COLUMN analytics_city_stats.approval_rate IS 'Share of APPROVED transactions, 0-1, 4 decimals.';
COMMENT ON COLUMN analytics_city_stats.top_category IS 'Category with the most transactions in the city (ties: alphabetically first).';

CREATE VIEW analytics_hourly_activity AS
SELECT ((event_date + make_interval(hours => event_hour)) AT TIME ZONE 'UTC') AS hour_start,
       event_date,
       event_hour,
       event_dayofweek,
       count(*)::bigint                                                    AS transaction_count,
       sum(amount)::numeric(14,2)                                          AS total_amount,
       round(avg(amount), 2)::numeric(12,2)                                AS average_amount,
       round(count(*) FILTER (WHERE status = 'APPROVED')::numeric / count(*), 4)::numeric(5,4) AS approval_rate
FROM transactions_flat
GROUP BY event_date, event_hour, event_dayofweek;

COMMENT ON VIEW analytics_hourly_activity IS 'Transactions per UTC hour (a time series). Group by event_hour or event_dayofweek for the daily or weekly profile.';
COMMENT ON COLUMN analytics_hourly_activity.hour_start IS 'Start of the UTC hour (timestamp with time zone).';
COMMENT ON COLUMN analytics_hourly_activity.event_date IS 'UTC calendar date.';
COMMENT ON COLUMN analytics_hourly_activity.event_hour IS 'UTC hour of day, 0-23.';
COMMENT ON COLUMN analytics_hourly_activity.event_dayofweek IS 'UTC weekday name.';
COMMENT ON COLUMN analytics_hourly_activity.transaction_count IS 'Number of transactions.';
COMMENT ON COLUMN analytics_hourly_activity.total_amount IS 'Sum of amount over all statuses.';
COMMENT ON COLUMN analytics_hourly_activity.average_amount IS 'Mean amount, rounded to 2 decimals.';
COMMENT ON COLUMN analytics_hourly_activity.approval_rate IS 'Share of APPROVED transactions, 0-1, 4 decimals.';

CREATE VIEW analytics_quality_results AS
SELECT q.run_id,
       q.stream,
       q.check_name,
       q.passed,
       q.observed,
       q.expected,
       q.details,
       q.checked_at,
       (q.run_id = latest.run_id) AS is_latest_run
FROM quality_results q
LEFT JOIN LATERAL (
  SELECT l.run_id FROM quality_results l WHERE l.stream = q.stream ORDER BY l.checked_at DESC, l.id DESC LIMIT 1
) latest ON true;

COMMENT ON VIEW analytics_quality_results IS 'Every data-quality check of every pipeline run; filter is_latest_run for the current state.';
COMMENT ON COLUMN analytics_quality_results.run_id IS 'Id of the pipeline run (the Temporal workflow id).';
COMMENT ON COLUMN analytics_quality_results.stream IS 'Stream the check ran on (transactions).';
COMMENT ON COLUMN analytics_quality_results.check_name IS 'Name of the check.';
COMMENT ON COLUMN analytics_quality_results.passed IS 'Whether the check passed.';
COMMENT ON COLUMN analytics_quality_results.observed IS 'What the check measured.';
COMMENT ON COLUMN analytics_quality_results.expected IS 'What it had to be.';
COMMENT ON COLUMN analytics_quality_results.details IS 'Explanation when it failed.';
COMMENT ON COLUMN analytics_quality_results.checked_at IS 'When the check ran.';
COMMENT ON COLUMN analytics_quality_results.is_latest_run IS 'True for the checks of the most recent run of the stream.';

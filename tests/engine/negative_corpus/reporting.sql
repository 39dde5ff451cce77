-- Monthly revenue report for the finance dashboard (schema v12).
CREATE TABLE IF NOT EXISTS orders (
    order_id      BIGINT PRIMARY KEY,
    order_ref     VARCHAR(32) NOT NULL UNIQUE,
    customer_id   UUID NOT NULL,
    status        VARCHAR(16) NOT NULL DEFAULT 'pending',
    total_cents   BIGINT NOT NULL CHECK (total_cents >= 0),
    currency      CHAR(3) NOT NULL DEFAULT 'USD',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    shipped_at    TIMESTAMPTZ
);

CREATE INDEX IF NOT EXISTS orders_created_idx ON orders (created_at);
CREATE INDEX IF NOT EXISTS orders_status_idx ON orders (status) WHERE status <> 'archived';

INSERT INTO orders (order_id, order_ref, customer_id, status, total_cents, created_at) VALUES
    (123456789, 'ORD-2024-0001873', 'f47ac10b-58cc-4372-a567-0e02b2c3d479', 'shipped', 123456789, '2024-03-14 10:32:07+00'),
    (123456790, 'ORD-2024-0001874', '9b2e4f6a-1c3d-4e5f-8a9b-0c1d2e3f4a5b', 'pending', 4599, '2024-03-14 10:35:51+00'),
    (123456791, 'ORD-2024-0001875', '3fa85f64-5717-4562-b3fc-2c963f66afa6', 'refunded', 250000, '2024-03-15 08:01:12+00');

WITH monthly AS (
    SELECT date_trunc('month', created_at) AS month,
           count(*)                         AS orders,
           sum(total_cents) / 100.0         AS revenue
    FROM orders
    WHERE status IN ('shipped', 'delivered')
      AND created_at >= '2023-01-01'
      AND created_at <  '2025-01-01'
    GROUP BY 1
)
SELECT to_char(month, 'YYYY-MM')                     AS month,
       orders,
       round(revenue, 2)                             AS revenue,
       round(100.0 * (revenue - lag(revenue) OVER w)
             / nullif(lag(revenue) OVER w, 0), 1)    AS growth_pct
FROM monthly
WINDOW w AS (ORDER BY month)
ORDER BY month DESC
LIMIT 24 OFFSET 0;

-- Slow query guard: statements over 1500 ms are logged with their plan.
SET statement_timeout = '30s';
SET lock_timeout = 5000;
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM orders WHERE order_id = 123456789;

"""The server's dashboard page: the model and version, request rate, latency percentiles, drift
per feature over the logged requests, and the recent gate results. Everything shown is escaped."""
import html
import time

STYLE = "body{font-family:sans-serif;margin:1.5em} table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:3px 8px}" \
        ".drifted{background:#fbb} .ok{background:#cfc}"


def _e(value):
    return html.escape(str(value), quote=True)


def latency_percentiles(metrics):
    """p50/p95/p99 in ms from the latency histogram's buckets (the bucket's upper edge)."""
    buckets = [(float(labels["le"]), value) for name, labels, value in metrics.samples("mlops_predict_latency_seconds")
               if name.endswith("_bucket")]
    total = buckets[-1][1] if buckets else 0
    if not total:
        return {q: None for q in ("p50", "p95", "p99")}
    return {q: next(1000 * edge for edge, count in buckets if count >= share * total) for q, share in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))}


def render(model_name, state, metrics, drift_rows):
    """The page for the server's state (its model and the gate results of its run), its metrics and the drift rows."""
    loaded = state.model
    rows = int(sum(value for name, _, value in metrics.samples("mlops_predicted_rows") if name.endswith("_total")))
    rate = rows / max(time.time() - state.started, 1e-9)
    lat = latency_percentiles(metrics)
    gates = loaded.gates if loaded else []
    drift_html = "".join(f"<tr class='{'drifted' if row['drifted'] else 'ok'}'><td>{_e(name)}</td><td>{row['psi']:.3f}</td>"
                         f"<td>{_e(row['drifted'])}</td></tr>" for name, row in drift_rows.items())
    gate_html = "".join(f"<tr class='{'ok' if g['passed'] else 'drifted'}'><td>{_e(g.get('version', ''))}</td><td>{_e(g['name'])}</td>"
                        f"<td>{_e(g['passed'])}</td><td>{_e(g['detail'])}</td></tr>" for g in gates)
    latency = " / ".join("-" if lat[q] is None else f"{lat[q]:.1f} ms" for q in ("p50", "p95", "p99"))
    return f"""<!DOCTYPE html><html><head><meta charset='utf-8'><title>twins mlops: {_e(model_name)}</title><style>{STYLE}</style></head>
<body><h1 id='model'>{_e(model_name)}</h1>
<p id='version'>version {_e(loaded.version if loaded else 'none')}{' (failed to load version ' + _e(state.failed_version) + ')' if state.failed_version else ''}</p>
<p id='rate'>{rows} rows scored, {rate:.1f} rows/s</p>
<p id='latency'>latency p50 / p95 / p99: {latency}</p>
<h2>Drift per feature</h2><table id='drift'><tr><th>feature</th><th>PSI</th><th>drifted</th></tr>{drift_html}</table>
<h2>Recent gate results</h2><table id='gates'><tr><th>version</th><th>check</th><th>passed</th><th>detail</th></tr>{gate_html}</table>
</body></html>"""

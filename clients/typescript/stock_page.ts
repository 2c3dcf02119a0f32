// What a frontend does with the generated client: the stock page, the live quote and the market
// overview, typed from docs/openapi.json (openapi-typescript writes ./schema.d.ts).
// Run: AZAK_API_URL=http://127.0.0.1:8000 AZAK_TOKEN=... node stock_page.js [code]
import type { paths } from "./schema.js";

type Json<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: { 200: { content: { "application/json": infer T } } };
}
  ? T
  : never;

type StockPage = Json<"/api/stocks/{code}/page", "get">;
type Quote = Json<"/api/stocks/{code}/quote", "get">;
type Overview = Json<"/api/market/overview", "get">;

// node's globals, declared here rather than pulling in @types/node for three fields
declare const process: { env: Record<string, string | undefined>; argv: string[] };

const base = process.env.AZAK_API_URL ?? "http://127.0.0.1:8000";
const token = process.env.AZAK_TOKEN ?? "";
const code = process.argv[2] ?? "005930";

async function get<T>(path: string): Promise<T> {
  const response = await fetch(base + path, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) {
    throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  }
  return (await response.json()) as T;
}

const page = await get<StockPage>(`/api/stocks/${code}/page`);
const quote = await get<Quote>(`/api/stocks/${code}/quote`);
const overview = await get<Overview>("/api/market/overview");

const shown = {
  code: page.detail.code,
  per: page.detail.valuation?.per ?? null,
  synthetic: page.detail.valuation?.synthetic ?? null,
  status: quote.market_status,
  bestBid: quote.best_bid,
  asks: quote.order_book.asks.length,
  models: page.analysis.reports.map((report) => report.provenance.model_name),
  predictions: page.predictions.length,
  news: page.news.map((article) => article.url),
  gainers: overview.gainers.map((mover) => [mover.code, mover.prediction?.model_name ?? null]),
  foreignBuyers: overview.net_buying.foreign.map((buyer) => buyer.code),
};
console.log(JSON.stringify(shown));

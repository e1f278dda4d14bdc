import { main } from "./placement.ts";
await main([5000]);

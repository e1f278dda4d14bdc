import { render } from "preact";
import { useState } from "preact/hooks";
import { formatSize } from "../../src/domain/units.ts";
function App() { const [n, setN] = useState(0); return <button onClick={() => setN(n + 1)}>{formatSize(n * 1024)}</button>; }
render(<App />, document.getElementById("app")!);

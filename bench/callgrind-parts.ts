/**
 * What a callgrind dump's instructions (Ir) went to, by function and by part (bench/instructions.ts).
 * Self cost per function, read from the dump itself: callgrind_annotate counts a function still
 * on the stack at the dump (a collection in progress) with its callees.
 */
export const PARTS = ["total", "code", "gc", "compile"] as const;
export type Parts = Record<(typeof PARTS)[number], number>;

// V8's collector (the main thread's and its helpers') and its compilers (TurboFan, Maglev,
// Sparkplug, the parser), by function name; the rest, "code", is what the requests' code runs.
const GC =
  /v8::internal::(Heap\b|Heap::|\w*Mark\w*|\w*Sweep\w*|\w*Scaveng\w*|\w*Evacuat\w*|MemoryChunk|MemoryAllocator|\w*Compactor|\w*GC\w*|PagedSpace|\w*NewSpace|SemiSpace|\w*Visitor|IncrementalMarking|ArrayBufferSweeper|GlobalHandles|Page::|BasicMemoryChunk|LargeObjectSpace|FreeList|Worklist|\w*RememberedSet\w*|\w*SlotSet\w*|HeapObject::SizeFromMap|RelocIterator)|v8::internal::\(anonymous namespace\)::\w*(RememberedSet|Evacuat|Mark|Sweep|Scaveng)\w*|InternalizedStringTableCleaner|heap::base::|cppgc::|__popcountdi2|<v8::internal::MemoryChunk\*/;
const COMPILE =
  /v8::internal::(compiler::|maglev::|baseline::|Compiler::|OptimizingCompileDispatcher|Parser|Scanner|ParseInfo|\w*BytecodeGenerator|interpreter::BytecodeArrayBuilder|Zone|AstNode|DeclarationScope|Scope::|\w*CompilationJob|turboshaft::)/;

export function partOf(name: string): "gc" | "compile" | "code" {
  if (GC.test(name)) return "gc";
  if (COMPILE.test(name)) return "compile";
  return "code";
}

/** Self Ir per function name in one dump (callgrind's format, names compressed or not). */
export function selfCosts(text: string): { total: number; byFunction: Map<string, number> } {
  const names = new Map<string, string>();
  const named = (value: string) => {
    const m = value.match(/^\((\d+)\)(?: (.*))?$/);
    if (!m) return value;
    const [, id = "", name] = m;
    if (name !== undefined) names.set(id, name);
    return names.get(id) ?? `(${id})`;
  };
  const byFunction = new Map<string, number>();
  let total = Number.NaN;
  let fn = "";
  let skipNext = false;
  for (const line of text.split("\n")) {
    const first = line.charCodeAt(0);
    // A cost line: a position (number, +n, -n or *) and the Ir count last.
    if ((first >= 48 && first <= 57) || first === 43 || first === 45 || first === 42) {
      if (skipNext) {
        skipNext = false; // the call's inclusive cost, which is its callee's
        continue;
      }
      const count = Number(line.slice(line.lastIndexOf(" ") + 1));
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + count);
    } else if (line.startsWith("fn=")) fn = named(line.slice(3));
    else if (line.startsWith("cfn=")) named(line.slice(4));
    else if (line.startsWith("calls=")) skipNext = true;
    else if (line.startsWith("summary:") || line.startsWith("totals:"))
      total = Number(line.slice(line.indexOf(":") + 1).trim());
  }
  return { total, byFunction };
}

/** A dump's instructions by part. */
export function partsOf(text: string): Parts {
  const { total, byFunction } = selfCosts(text);
  const parts: Parts = { total, code: 0, gc: 0, compile: 0 };
  for (const [name, count] of byFunction) parts[partOf(name)] += count;
  return parts;
}

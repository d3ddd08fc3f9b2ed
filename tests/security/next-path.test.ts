import { describe, expect, it } from "vitest";
import { sameSiteNext } from "@/app/_auth/next-path";

// `?next=` on the sign-in and password pages decides where the browser goes after them: anything
// a browser would read as another site is an open redirect (a link that signs a player in on our
// page and lands them on a look-alike).
describe("where a page may send the browser next", () => {
  it("keeps a path on this site, with its query and fragment", () => {
    expect(sameSiteNext("/staff")).toBe("/staff");
    expect(sameSiteNext("/staff?request=r1#end")).toBe("/staff?request=r1#end");
    expect(sameSiteNext("/player")).toBe("/player");
  });

  it.each([
    ["//evil.example/x"],
    ["/\\evil.example/x"], // browsers read a backslash as a slash
    ["/\t/evil.example"], // and drop tabs and newlines before parsing
    ["/\n/evil.example"],
    ["https://evil.example/"],
    ["javascript:alert(1)"],
    ["evil.example"],
    [""],
    [undefined],
  ])("refuses %j", (next) => {
    expect(sameSiteNext(next)).toBeUndefined();
  });
});

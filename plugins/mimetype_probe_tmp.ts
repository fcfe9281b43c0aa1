import { WASMagic } from "wasmagic";
const m = await WASMagic.create();
console.log(m.detect(new TextEncoder().encode("#!/bin/sh\necho hi\n")));

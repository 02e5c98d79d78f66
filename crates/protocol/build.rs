//! Generates the Rust types for `proto/*.proto` with prost, using the protoc binary shipped in the
//! `protoc-bin-vendored` crate so that no system protoc is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; prost-build reads PROTOC from the environment.
    unsafe { std::env::set_var("PROTOC", protoc) };
    // Read at run time, not with `env!`: the compiled build script is shared by every checkout
    // that uses the same target dir, and a baked-in path would point at another (maybe deleted) clone.
    let dir = format!("{}/../../proto", std::env::var("CARGO_MANIFEST_DIR")?);
    let files = [
        format!("{dir}/CanalProtocol.proto"),
        format!("{dir}/EntryProtocol.proto"),
        format!("{dir}/AdminProtocol.proto"),
    ];
    for f in &files {
        println!("cargo:rerun-if-changed={f}");
    }
    let mut config = prost_build::Config::new();
    // Every bytes field is `Bytes`: stored entries reach MESSAGES and storeValue without a copy.
    config.bytes(["."]);
    config.compile_protos(&files, &[&dir])?;
    Ok(())
}

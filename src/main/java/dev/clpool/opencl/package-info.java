/**
 * The OpenCL backend, written once against {@link dev.clpool.opencl.ClBinding} (one binding per
 * sub-package, {@code jocl} and {@code lwjgl}, the only code that imports a binding). The files
 * of this package fall into four groups; a change usually belongs in exactly one:
 *
 * <ul>
 * <li><b>The backend</b>: {@link dev.clpool.opencl.OpenClBackend}, a thin
 *     {@link dev.clpool.backend.PoolingBackend} that opens a device and delegates each operation
 *     to its routine; its nested {@code Options}, {@code Tuning} and {@code Layout} are the
 *     public knobs.</li>
 * <li><b>Routines</b>, one per operation, {@code *Routine}: {@code PoolRoutine},
 *     {@code IndicesRoutine}, {@code GlobalRoutine}, {@code AdaptiveRoutine},
 *     {@code BackwardRoutine}. Each chooses its kernel's {@code -D} options
 *     ({@code KernelOptions}), its work-group ranges ({@code WorkGroups}) and its kernel
 *     arguments, and asks the session for the rest; none calls back into the backend. A new
 *     operation is a new routine and a new {@code .cl} file under {@code opencl/}.</li>
 * <li><b>The device session</b>, what every routine shares: {@code DeviceSession} (context,
 *     queues, program cache, buffer pool, work groups, the dispatch lock, device tensors),
 *     {@code Limits} (what one allocation and the kernels' 32-bit offsets hold: batch chunks,
 *     {@code RowBands}, pixel ranges, and the refusal
 *     {@link dev.clpool.backend.BackendLimitException}), {@code HostBatches} (how an operation
 *     on host tensors runs: chunk by chunk through {@code Staging}, zero-copy on host-unified
 *     devices, or as a {@code Pipeline} of uploads, kernels and downloads on devices that copy),
 *     {@code ResidentBuffer} (a device tensor: values or int64 indices), {@code BufferPool},
 *     {@code ProgramCache} and {@code ProgramBinaryCache}.</li>
 * <li><b>Native handles and devices</b>: the {@code Cl*} wrappers (one owner per handle,
 *     counted by {@code NativeObjects}), {@code Bindings}, {@code OpenClDevices},
 *     {@code DeviceInfo}, {@code OpenClLibrary}, {@code SignalChaining}; and diagnostics that use
 *     a session directly: {@code SelfTest}, {@code DeviceReport}, {@code DeviceCopy}.</li>
 * </ul>
 *
 * <p>One {@code pool} call reads top to bottom: {@code OpenClBackend.pool} →
 * {@code PoolRoutine.run} → {@code HostBatches.run} (→ {@code Staging} or {@code Pipeline}) →
 * {@code PoolRoutine.enqueue} → {@code pool2d_nhwc.cl}, or for large windows
 * {@code SeparablePool.enqueue} → {@code pool_separable.cl} (two passes).
 */
package dev.clpool.opencl;
